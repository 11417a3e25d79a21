"""Simulated Inspector2 coverage, findings (seeded per AMI), findings
reports, SBOM exports and account status. ``urls.dispatch`` answers those
operations (moto serves the rest); ``urls.admin_dispatch`` serves seeding."""
