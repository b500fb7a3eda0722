"""DynamoDB adapters (pynamodb), one store per aggregate."""
