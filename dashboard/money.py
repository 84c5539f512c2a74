"""Exact money arithmetic: integers in minor units, micro-units for sub-cent costs, one rounding.

Amounts are summed exactly (ints or Decimals) and each reported figure is rounded once,
half-even, to an integer in minor units of its currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000

# Stripe's zero-decimal currencies: an amount of 500 jpy is 500 minor units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)


def exponent(currency: str) -> int:
    """Number of decimal places of a currency's minor unit."""
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def round_half_even(value: Decimal | int) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def divide_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even, in integers: no decimal-context limit."""
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def parse_decimal(text: str) -> Decimal:
    """A finite decimal from text; raises ValueError with a plain reason otherwise."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(f"{text!r} is not a decimal number") from exc
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def to_micros(amount: Decimal) -> int:
    """Exact micro-units of a decimal amount; more than six decimal places is refused, not rounded."""
    micros = amount * MICROS_PER_UNIT
    if micros != micros.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimal places")
    return int(micros)


def micros_to_minor(micros: Decimal | int, currency: str) -> Decimal:
    """Exact (unrounded) minor units of a micro-unit amount."""
    return Decimal(micros) / (Decimal(10) ** (6 - exponent(currency)))


def format_amount(minor: int | None, currency: str) -> str:
    """A human-readable amount such as ``$1,234.56`` or ``-€12.00``; ``—`` when unknown."""
    if minor is None:
        return "—"
    symbols = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
    exp = exponent(currency)
    value = Decimal(abs(minor)) / (Decimal(10) ** exp)
    body = f"{value:,.{exp}f}"
    symbol = symbols.get(currency.lower())
    text = f"{symbol}{body}" if symbol else f"{body} {currency.upper()}"
    return f"-{text}" if minor < 0 else text
