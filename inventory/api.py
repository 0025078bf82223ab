"""What other apps call to reserve, confirm, release and consume stock.

Takes plain data (ids, quantities) and never imports `orders`.
"""
