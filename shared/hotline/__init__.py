"""The 24-hour hotline (S8): complaints and requests become tickets, dispatched, escalated when overdue,
closed with a resolution and the citizen's confirmation (or a timeout), every action audited."""
