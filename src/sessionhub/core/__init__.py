"""The domain: sessions, leases, media timelines and QoE. Imports no web framework or driver."""
