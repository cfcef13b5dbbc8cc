"""Hybrid Care Orchestrator: the Chalice app. Routes live in chalicelib/api; nothing else happens here."""

from chalice import Chalice

from chalicelib.api.appointments import appointments
from chalicelib.api.audit import audit
from chalicelib.api.care_routing import care_routing
from chalicelib.api.directory import directory
from chalicelib.api.eligibility import eligibility
from chalicelib.api.fhir import fhir
from chalicelib.api.fhir_feed import fhir_feed
from chalicelib.api.health import health
from chalicelib.api.jobs import jobs
from chalicelib.api.licensure import licensure
from chalicelib.api.middleware import runtime
from chalicelib.api.openapi import openapi
from chalicelib.api.reminders import reminders
from chalicelib.api.streams import streams
from chalicelib.api.video import video

app = Chalice(app_name="hybrid-care-orchestrator")
app.register_blueprint(runtime)  # first: its middleware wraps every handler (Lambda context, framework errors)
app.register_blueprint(health)
app.register_blueprint(directory)
app.register_blueprint(appointments)
app.register_blueprint(audit)
app.register_blueprint(licensure)
app.register_blueprint(video)
app.register_blueprint(eligibility)
app.register_blueprint(openapi)
app.register_blueprint(care_routing)
app.register_blueprint(jobs)
app.register_blueprint(fhir)
app.register_blueprint(fhir_feed)
app.register_blueprint(reminders)
app.register_blueprint(streams)
