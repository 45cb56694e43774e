"""Promotions (next): applications, campaigns, rulesets, coupons, referrals, loyalty.

It will sit above people and customer segments: it reads profiles and
audiences and subscribes to the changes they publish."""
