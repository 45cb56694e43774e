"""What an operator watches: metrics, readiness, and logs that carry request ids."""
