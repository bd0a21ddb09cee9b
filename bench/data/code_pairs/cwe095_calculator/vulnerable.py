def calculate(expression: str) -> float:
    """Evaluate the arithmetic the user typed."""
    return eval(expression)
