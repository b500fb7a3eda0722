"""The immutable event archive for auditors: JSON Lines in S3 by date, district and lot."""
