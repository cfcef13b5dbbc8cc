"""FHIR R4 face of the product: the mapping between domain objects and FHIR resources lives here, in one
place (codes.py: code systems, extension URLs and ids; resources.py: domain -> resource; inbound.py:
resource and search parameters -> domain; publication.py: SMART Scheduling Links bulk publication).

Nothing here is imported by `import app`: api/fhir.py loads this package on the first FHIR request.
"""
