"""What every HTTP surface shares: reading bodies, the status of each domain error."""
