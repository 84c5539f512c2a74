-- name: cash-by-category
-- Σ amount, fee and net of balance transactions created in [start, end) in the six income categories, by category and settlement currency; rows not settled in :currency are split by their local day so each can take that day's fx rate.
SELECT reporting_category, currency, day,
       SUM(amount) AS amount, SUM(fee) AS fee, SUM(net) AS net, COUNT(*) AS transactions
FROM (
    SELECT bt.reporting_category, bt.currency,
           CASE WHEN bt.currency = :currency THEN NULL ELSE {{ local_date(bt.created) }} END AS day,
           bt.amount, bt.fee, bt.net
    FROM stripe_balance_transactions AS bt
    WHERE bt.created >= :start AND bt.created < :end
      AND bt.reporting_category IN ('charge', 'refund', 'refund_failure', 'dispute', 'dispute_reversal', 'fee')
) AS income
GROUP BY reporting_category, currency, day
ORDER BY reporting_category, currency, day;

-- name: fx-rates
-- Every fx rate (reporting-currency units per unit of currency) dated from :first_day to :last_day inclusive.
SELECT fx.date AS day, fx.currency, fx.rate
FROM fx_rates AS fx
WHERE fx.date >= :first_day AND fx.date <= :last_day
ORDER BY fx.date, fx.currency;

-- name: charge-counts
-- Charges created in [start, end): succeeded, failed, and distinct customers with a succeeded charge.
SELECT COALESCE(SUM(CASE WHEN c.status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded,
       COALESCE(SUM(CASE WHEN c.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
       COUNT(DISTINCT CASE WHEN c.status = 'succeeded' THEN c.customer_id END) AS paying_customers
FROM stripe_charges AS c
WHERE c.created >= :start AND c.created < :end;

-- name: new-paying-customers
-- Customers whose first-ever succeeded charge was created in [start, end).
SELECT COUNT(DISTINCT c.customer_id) AS new_paying_customers
FROM stripe_charges AS c
WHERE c.status = 'succeeded' AND c.customer_id IS NOT NULL
  AND c.created >= :start AND c.created < :end
  AND NOT EXISTS (
      SELECT 1 FROM stripe_charges AS earlier
      WHERE earlier.customer_id = c.customer_id AND earlier.status = 'succeeded'
        AND earlier.created < :start
  );

-- name: task-summary
-- Tasks started in [start, end): count, succeeded, failed, and Σ cost in micro-units of the reporting currency (cost_micros, else the service's decimal cost × 10⁶ rounded).
SELECT COUNT(*) AS tasks,
       COALESCE(SUM(CASE WHEN t.status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded,
       COALESCE(SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
       COALESCE(SUM(COALESCE(t.cost_micros, CAST(ROUND(t.cost * 1000000) AS BIGINT))), 0) AS cost_micros
FROM execution_tasks AS t
WHERE t.started_at >= :start AND t.started_at < :end;

-- name: costs-by-date
-- Imported costs dated from :first_day up to (not including) :end_day, by date, category and currency, in micro-units of that currency.
SELECT k.date AS day, k.category, k.currency, SUM(k.amount_micros) AS amount_micros
FROM costs AS k
WHERE k.date >= :first_day AND k.date < :end_day
GROUP BY k.date, k.category, k.currency
ORDER BY k.date, k.category, k.currency;
