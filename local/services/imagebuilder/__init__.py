"""Simulated EC2 Image Builder: components, recipes, infrastructure and
distribution configurations, pipelines, and builds that register real AMIs
in moto's EC2 and notify SNS. ``urls.dispatch`` answers the requests."""
