"""storywire's lab: evaluation, benchmarks, fitting and the demo, beside `services/`.

What a running deployment imports lives in `services/`; everything here only measures, fits or
shows it, and `services/` never imports it (the Docker image holds no `lab/`).
"""
