"""What an operator sees of a running sessionhub: Prometheus metrics and access logs.

``metrics`` holds every metric and the few calls that record them; ``access_log`` writes one
line per request. Neither reads the store: what is global (sessions active now) is read at
scrape time by ``sessionhub.admin.metrics_route``.
"""
