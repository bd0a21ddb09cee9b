"""Sample texts for the demo."""
