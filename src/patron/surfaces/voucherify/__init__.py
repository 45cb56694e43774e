"""The customers API surface, compatible with Voucherify's customers and async actions."""
