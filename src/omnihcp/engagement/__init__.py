"""Engagement: the content library and its medical-legal-regulatory (MLR) approval, and the
channels content is delivered through (WeCom, SMS, email)."""
