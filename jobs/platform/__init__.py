"""The vehicle-monitoring platform (车辆动态监控平台): the HTTP client guapai uses, and a
SIMULATED platform for the demo and the tests. The API is described in docs/platform-api.md."""
