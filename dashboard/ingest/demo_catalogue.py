"""The demo's Stripe catalogue: products, prices (monthly and yearly in usd, eur, gbp), credit packs, coupons."""

from __future__ import annotations

from dashboard.ingest.demo_world import CREDIT_PACKS, CURRENCIES, DAY, PLANS, Coupon, World, price_amount, price_id

CATALOGUE_CREATED_DAYS_BEFORE = 60


def catalogue(world: World) -> tuple[list[dict], dict[str, dict]]:
    """Products and prices (monthly and yearly in usd, eur and gbp; one-time credit packs)."""
    created = world.t0 - CATALOGUE_CREATED_DAYS_BEFORE * DAY
    products: list[dict] = []
    prices: dict[str, dict] = {}

    def product(pid: str, name: str, default_price: str) -> None:
        products.append({
            "id": pid, "object": "product", "active": True, "created": created, "updated": created,
            "default_price": default_price, "description": None, "livemode": False, "metadata": {},
            "name": name, "type": "service", "images": [], "marketing_features": [],
        })

    def price(pid: str, product_id: str, currency: str, amount: int, nickname: str, interval: str | None) -> None:
        prices[pid] = {
            "id": pid, "object": "price", "active": True, "billing_scheme": "per_unit", "created": created,
            "currency": currency, "livemode": False, "lookup_key": pid.removeprefix("price_"), "metadata": {},
            "nickname": nickname, "product": product_id, "tax_behavior": "exclusive",
            "recurring": None if interval is None else {
                "interval": interval, "interval_count": 1, "usage_type": "licensed", "meter": None,
                "trial_period_days": None},
            "type": "one_time" if interval is None else "recurring",
            "unit_amount": amount, "unit_amount_decimal": str(amount),
        }

    for plan in PLANS:
        product(f"prod_{plan.key}", plan.name, price_id(plan.key, "month", "usd"))
        for interval in ("month", "year"):
            for currency in CURRENCIES:
                price(price_id(plan.key, interval, currency), f"prod_{plan.key}", currency,
                      price_amount(plan, interval, currency), f"{plan.name} {interval}ly ({currency.upper()})",
                      interval)
    for key, name, amounts in CREDIT_PACKS:
        product(f"prod_{key}", name.capitalize(), f"price_{key}_usd")
        for currency in CURRENCIES:
            price(f"price_{key}_{currency}", f"prod_{key}", currency, amounts[currency],
                  f"{name} ({currency.upper()})", None)
    return products + list(prices.values()), prices


def coupon_object(coupon: Coupon, created: int) -> dict:
    return {
        "id": coupon.id, "object": "coupon", "amount_off": None, "created": created, "currency": None,
        "duration": coupon.duration, "duration_in_months": None, "livemode": False, "max_redemptions": None,
        "metadata": {}, "name": f"{coupon.percent_off}% off {coupon.duration}", "percent_off": coupon.percent_off,
        "redeem_by": None, "times_redeemed": 0, "valid": True,
    }
