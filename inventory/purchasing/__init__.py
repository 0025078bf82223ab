"""Purchasing: suppliers' purchase orders from draft to received.

Writes in `services`, reads in `selectors`, the PDF and the supplier e-mail
in `documents`. Receiving that also serves waiting backorders is composed
above orders, in `fulfillment.receiving`.
"""
