"""Dollars in words: the one way every explanation, report, diff and diagnosis writes an amount of money.
(Imports nothing, so the commands that start without pandas can use it too.)"""


def money(usd: float | None) -> str:
    """'$1,234', '-$1,234', '$0' for what rounds to zero dollars (never '$-0'), 'n/a' for no value."""
    if usd is None:
        return "n/a"
    whole = round(usd) or 0
    return f"-${-whole:,.0f}" if whole < 0 else f"${whole:,.0f}"
