-- name: store-contents
-- The data tables that hold at least one row (none: the store is empty).
SELECT 'stripe_balance_transactions' AS table_name WHERE EXISTS (SELECT 1 FROM stripe_balance_transactions)
UNION ALL
SELECT 'stripe_charges' WHERE EXISTS (SELECT 1 FROM stripe_charges)
UNION ALL
SELECT 'stripe_customers' WHERE EXISTS (SELECT 1 FROM stripe_customers)
UNION ALL
SELECT 'stripe_subscriptions' WHERE EXISTS (SELECT 1 FROM stripe_subscriptions)
UNION ALL
SELECT 'product_events' WHERE EXISTS (SELECT 1 FROM product_events)
UNION ALL
SELECT 'execution_tasks' WHERE EXISTS (SELECT 1 FROM execution_tasks)
UNION ALL
SELECT 'costs' WHERE EXISTS (SELECT 1 FROM costs);
