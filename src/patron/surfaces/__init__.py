"""HTTP adapters, one package per API surface. They translate; they hold no rules."""
