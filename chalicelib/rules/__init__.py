"""Rule files: schema (pydantic models), build (YAML -> validated JSON bundle), load (once per process).

`python -m chalicelib.rules validate` checks every file and lists what is due for review;
`python -m chalicelib.rules build` writes the bundle Chalice packages; `schema` writes JSON Schemas.
"""
