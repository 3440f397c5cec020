"""The audit: every payee's earnings and every licence's escrow recomputed from the chain's events alone, compared
with the contract's views and with the database; and every settled use checked against its settlement's root."""
