"""The store: Stripe mirror, product events, execution tasks, costs, fx, bookkeeping.

Adopts tables that already exist (a task service's ``execution_tasks``) instead of failing
on them; see :mod:`dashboard.schema_ops`.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from dashboard.schema import metadata
from dashboard.schema_ops import drop_tables, ensure_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Named, not "all of metadata", so that tables added by later revisions stay theirs.
TABLES = (
    "audit_runs",
    "costs",
    "customer_links",
    "execution_tasks",
    "fx_rates",
    "identity_links",
    "import_runs",
    "model_prices",
    "product_events",
    "roi_adopted_objects",
    "store_meta",
    "stripe_balance_transactions",
    "stripe_charges",
    "stripe_customers",
    "stripe_disputes",
    "stripe_events",
    "stripe_invoice_payments",
    "stripe_invoices",
    "stripe_payouts",
    "stripe_prices",
    "stripe_products",
    "stripe_refunds",
    "stripe_subscription_items",
    "stripe_subscriptions",
    "subscription_history",
    "sync_cursors",
)


def upgrade() -> None:
    ensure_tables([metadata.tables[name] for name in TABLES])


def downgrade() -> None:
    drop_tables([metadata.tables[name] for name in TABLES])
