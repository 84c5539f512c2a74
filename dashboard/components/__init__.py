"""Small drawing helpers shared by the dashboard's pages: cards, charts, banners, the filter."""
