"""Off-peak and regional shared parking (S6, S12): units offer spaces for set windows, residents apply,
the operator or the district approves, and an approved application is a right for named plates."""
