"""Grafana dashboards and Prometheus alert rules for Bounce Processor, as code.

``python -m dashboards.build`` writes the dashboard JSON files in this directory
and the Helm chart's copies; ``--check`` only reports files that are out of date.
"""
