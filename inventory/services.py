"""Writes of the inventory app: stock receipts, adjustments, reservations."""
