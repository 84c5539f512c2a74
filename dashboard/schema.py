"""The store's schema: every table the product reads or writes, for SQLite and PostgreSQL alike.

Conventions:
- money is an integer: ``*_amount``/``amount``/``fee``/``net`` in minor units of the row's
  currency, ``*_micros`` in millionths of a currency unit (sub-cent AI costs);
- timestamps are :class:`UTCDateTime`; calendar dates are ``Date``;
- Stripe objects keep their Stripe id as primary key and their full JSON in ``raw``, so a
  re-sync upserts instead of duplicating and fields not modelled yet are never lost;
- ``execution_tasks`` keeps the column names and plain types that a task service writes
  directly (``cost`` is the service's decimal), plus ``cost_micros``, the exact figure we sum.
"""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.types import ExactDecimal, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = sa.BigInteger
Json = sa.Text  # JSON documents as text: portable, and compared byte for byte on re-import


def _stripe_table(name: str, *columns: sa.Column, indexes: tuple[tuple[str, ...], ...] = ()) -> sa.Table:
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("livemode", sa.Boolean, nullable=False, server_default=sa.false()),
        *columns,
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("raw", Json, nullable=False),
        sa.Column("synced_at", UTCDateTime, nullable=False),
    )
    sa.Index(None, table.c.created)
    for cols in indexes:
        sa.Index(None, *(table.c[c] for c in cols))
    return table


# --- Stripe mirror -----------------------------------------------------------------------

stripe_customers = _stripe_table(
    "stripe_customers",
    sa.Column("email", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("user_id", sa.Text),  # metadata.user_id: the product's user behind the customer
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    indexes=(("user_id",),),
)

stripe_products = _stripe_table(
    "stripe_products",
    sa.Column("name", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

stripe_prices = _stripe_table(
    "stripe_prices",
    sa.Column("product_id", sa.Text),
    sa.Column("nickname", sa.Text),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("unit_amount", Money),
    sa.Column("type", sa.Text),  # one_time | recurring
    sa.Column("recurring_interval", sa.Text),  # day | week | month | year
    sa.Column("recurring_interval_count", sa.Integer),
    sa.Column("usage_type", sa.Text),  # licensed | metered
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    indexes=(("product_id",),),
)

stripe_subscriptions = _stripe_table(
    "stripe_subscriptions",
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("currency", sa.Text),
    sa.Column("start_date", UTCDateTime),
    sa.Column("trial_start", UTCDateTime),
    sa.Column("trial_end", UTCDateTime),
    sa.Column("cancel_at_period_end", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("canceled_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("discount_coupon_id", sa.Text),
    sa.Column("discount_duration", sa.Text),  # forever | once | repeating
    sa.Column("discount_percent_off", ExactDecimal),
    sa.Column("discount_amount_off", Money),
    sa.Column("discount_currency", sa.Text),
    indexes=(("customer_id",), ("status",)),
)

stripe_subscription_items = _stripe_table(
    "stripe_subscription_items",
    sa.Column("subscription_id", sa.Text, nullable=False),
    sa.Column("price_id", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer),
    indexes=(("subscription_id",),),
)

# Each dated state of a subscription, so that MRR at any instant and its movements can be derived.
subscription_history = sa.Table(
    "subscription_history",
    metadata,
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("valid_from", UTCDateTime, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("items", Json, nullable=False),  # [{"price_id", "quantity"}]
    sa.Column("discount", Json),  # {"duration", "percent_off", "amount_off", "currency"} or null
    sa.Column("source", sa.Text, nullable=False),  # event id, "snapshot" or "demo"
)
sa.Index(None, subscription_history.c.customer_id, subscription_history.c.valid_from)

stripe_invoices = _stripe_table(
    "stripe_invoices",
    sa.Column("customer_id", sa.Text),
    sa.Column("subscription_id", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount_due", Money),
    sa.Column("amount_paid", Money),
    sa.Column("total", Money),
    sa.Column("period_start", UTCDateTime),
    sa.Column("period_end", UTCDateTime),
    indexes=(("customer_id",), ("subscription_id",)),
)

stripe_invoice_payments = _stripe_table(
    "stripe_invoice_payments",
    sa.Column("invoice_id", sa.Text, nullable=False),
    sa.Column("payment_intent_id", sa.Text),
    sa.Column("charge_id", sa.Text),
    sa.Column("amount_paid", Money),
    sa.Column("currency", sa.Text),
    sa.Column("status", sa.Text),
    indexes=(("invoice_id",), ("payment_intent_id",), ("charge_id",)),
)

stripe_charges = _stripe_table(
    "stripe_charges",
    sa.Column("customer_id", sa.Text),
    sa.Column("payment_intent_id", sa.Text),
    sa.Column("amount", Money, nullable=False),
    sa.Column("amount_refunded", Money, nullable=False, server_default="0"),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # succeeded | pending | failed
    sa.Column("paid", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("refunded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disputed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failure_code", sa.Text),
    sa.Column("failure_message", sa.Text),
    sa.Column("outcome_type", sa.Text),
    sa.Column("outcome_reason", sa.Text),
    sa.Column("balance_transaction_id", sa.Text),
    sa.Column("billing_country", sa.Text),
    indexes=(("customer_id",), ("status", "created"), ("payment_intent_id",)),
)

stripe_refunds = _stripe_table(
    "stripe_refunds",
    sa.Column("charge_id", sa.Text),
    sa.Column("payment_intent_id", sa.Text),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("balance_transaction_id", sa.Text),
    indexes=(("charge_id",),),
)

stripe_disputes = _stripe_table(
    "stripe_disputes",
    sa.Column("charge_id", sa.Text),
    sa.Column("payment_intent_id", sa.Text),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text),
    sa.Column("reason", sa.Text),
    indexes=(("charge_id",),),
)

stripe_balance_transactions = _stripe_table(
    "stripe_balance_transactions",
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("reporting_category", sa.Text, nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("fee", Money, nullable=False),
    sa.Column("net", Money, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),  # settlement currency
    sa.Column("exchange_rate", ExactDecimal),
    sa.Column("source_id", sa.Text),
    sa.Column("status", sa.Text),  # available | pending
    sa.Column("available_on", UTCDateTime),
    sa.Column("payout_id", sa.Text),  # the automatic payout that paid this transaction out
    indexes=(("reporting_category", "created"), ("source_id",), ("payout_id",)),
)

stripe_payouts = _stripe_table(
    "stripe_payouts",
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text),
    sa.Column("arrival_date", UTCDateTime),
    sa.Column("automatic", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("balance_transaction_id", sa.Text),
)

# Every Stripe event seen, from the Events API or a webhook, stored once by id.
stripe_events = sa.Table(
    "stripe_events",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("api_version", sa.Text),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("object_id", sa.Text),
    sa.Column("payload", Json, nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # sync | webhook | demo
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("processed_at", UTCDateTime),
)
sa.Index(None, stripe_events.c.created)
sa.Index(None, stripe_events.c.object_id)

# Where each resumable reader stopped (Stripe resources, the task watermark, ...).
sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("resource", sa.Text, primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("state", Json),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# --- Product data ------------------------------------------------------------------------

product_events = sa.Table(
    "product_events",
    metadata,
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("user_id", sa.Text),
    sa.Column("anonymous_id", sa.Text),
    sa.Column("channel", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("device", sa.Text),
    sa.Column("consent", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("properties", Json),
)
sa.Index(None, product_events.c.ts)
sa.Index(None, product_events.c.event, product_events.c.ts)
sa.Index(None, product_events.c.user_id, product_events.c.ts)
sa.Index(None, product_events.c.anonymous_id)

# An anonymous id seen together with a user id: the person's earlier anonymous events are theirs.
identity_links = sa.Table(
    "identity_links",
    metadata,
    sa.Column("anonymous_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("linked_at", UTCDateTime, nullable=False),
)
sa.Index(None, identity_links.c.user_id)

# The product's users behind Stripe customers, where Stripe metadata does not say.
customer_links = sa.Table(
    "customer_links",
    metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
)
sa.Index(None, customer_links.c.customer_id)

execution_tasks = sa.Table(
    "execution_tasks",
    metadata,
    sa.Column("task_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text),
    sa.Column("task_type", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # succeeded | failed | cancelled
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ai_model", sa.Text),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cost", sa.Numeric(18, 6)),  # as the task service writes it, reporting currency
    sa.Column("customer_id", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("cost_micros", sa.BigInteger),  # exact cost in micro-units; what every figure sums
)
sa.Index(None, execution_tasks.c.started_at)
sa.Index(None, execution_tasks.c.ai_model, execution_tasks.c.started_at)
sa.Index(None, execution_tasks.c.customer_id)
sa.Index(None, execution_tasks.c.user_id)

model_prices = sa.Table(
    "model_prices",
    metadata,
    sa.Column("ai_model", sa.Text, primary_key=True),
    sa.Column("effective_from", UTCDateTime, primary_key=True),
    sa.Column("input_per_million_micros", sa.BigInteger, nullable=False),
    sa.Column("output_per_million_micros", sa.BigInteger, nullable=False),
)

costs = sa.Table(
    "costs",
    metadata,
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),  # marketing | infrastructure | ai | other
    sa.Column("channel", sa.Text, primary_key=True, server_default=""),  # "" = no channel
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
)

fx_rates = sa.Table(
    "fx_rates",
    metadata,
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("currency", sa.Text, primary_key=True),
    sa.Column("rate", ExactDecimal, nullable=False),  # reporting-currency units per unit of currency
)

# --- Bookkeeping -------------------------------------------------------------------------

audit_runs = sa.Table(
    "audit_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ran_at", UTCDateTime, nullable=False),
    sa.Column("gate", sa.Text, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("detail", Json),
)
sa.Index(None, audit_runs.c.ran_at)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("rows_in_file", sa.BigInteger, nullable=False),
    sa.Column("rows_written", sa.BigInteger, nullable=False),
    sa.Column("imported_at", UTCDateTime, nullable=False),
)

# Small facts about the store itself: data version (bumped by every write), demo flag, mode.
store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Tables and columns that existed before `roi db upgrade` adopted the database: never dropped.
adopted_objects = sa.Table(
    "roi_adopted_objects",
    metadata,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),  # "" = the table itself
)

TABLES_BY_NAME = {t.name: t for t in metadata.sorted_tables}
