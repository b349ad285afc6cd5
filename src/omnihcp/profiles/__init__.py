"""HCP profiles: tags (manual, rule-based, model-based) with their history, and the rule
language of tags and segments."""
