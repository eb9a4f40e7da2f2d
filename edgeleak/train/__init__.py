"""On-device training as the host sees it: configurations, the numpy oracle, update decoding."""
