-- name: revenue-by-day
-- Σ amount, fee and net of the six income categories of balance transactions created in [start, end), by local day (in :tz), category and settlement currency.
SELECT day, reporting_category, currency,
       SUM(amount) AS amount, SUM(fee) AS fee, SUM(net) AS net, COUNT(*) AS transactions
FROM (
    SELECT {{ local_date(bt.created) }} AS day, bt.reporting_category, bt.currency,
           bt.amount, bt.fee, bt.net
    FROM stripe_balance_transactions AS bt
    WHERE bt.created >= :start AND bt.created < :end
      AND bt.reporting_category IN ('charge', 'refund', 'refund_failure', 'dispute', 'dispute_reversal', 'fee')
) AS income
GROUP BY day, reporting_category, currency
ORDER BY day, reporting_category, currency;

-- name: task-cost-by-day
-- Tasks started in [start, end) by local day (in :tz): count, succeeded, failed and Σ cost in micro-units of the reporting currency.
SELECT day, COUNT(*) AS tasks,
       SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       COALESCE(SUM(cost_micros), 0) AS cost_micros
FROM (
    SELECT {{ local_date(t.started_at) }} AS day, t.status,
           COALESCE(t.cost_micros, CAST(ROUND(t.cost * 1000000) AS BIGINT)) AS cost_micros
    FROM execution_tasks AS t
    WHERE t.started_at >= :start AND t.started_at < :end
) AS started
GROUP BY day
ORDER BY day;
