"""Clients of the external systems guapai talks to (the vehicle-monitoring platform): small,
each taking an injected httpx transport, retries and timeouts explicit."""
