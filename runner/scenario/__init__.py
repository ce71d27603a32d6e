"""The XC Scenario platform's REST API: the client (the only requests importer) and the
poll adapter that turns the platform's JSON into task instances."""
