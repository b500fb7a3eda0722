"""Leave first, pay later (先离场后付费, S6): eligibility at the exit and the billing workflow's tasks."""
