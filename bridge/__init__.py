"""Relance's shell: the web app, the jobs and the command line around the pure cores (`scoring`, `campaigns`).

Sub-packages are stacked in layers; a module imports only from its own layer's lower modules and from the
layers below (import-linter checks it, see pyproject.toml):

    cli > demo > app > schedule > jobs > wiring      entry points; wiring builds the context
    api                                              the JSON API and probes
    events | outreach                                independent of each other
    shops > leads > infra > db
"""
