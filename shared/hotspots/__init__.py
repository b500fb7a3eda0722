"""Where parking is hard (S2): utilisation and turnover per lot and area by hour of day, the hotspots."""
