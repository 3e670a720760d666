"""The line model's fitting: labels, site folds, and the fitted module it writes."""

import ast

from lab.clean import fit, linefit
from lab.clean.scoring import shingles
from services.clean import lines


def test_a_line_is_the_articles_when_its_shingles_are_in_the_true_body() -> None:
    gold = "Kerry met Putin in Moscow on Thursday. The talks lasted four hours."
    joined = " kerry met putin in moscow on thursday the talks lasted four hours "
    assert linefit.line_label("Kerry met Putin in Moscow on Thursday.", shingles(gold), joined)
    assert not linefit.line_label("Share this story on Facebook now", shingles(gold), joined)
    assert linefit.line_label("four hours", shingles(gold), joined)  # short: words in a row
    assert not linefit.line_label("hours four", shingles(gold), joined)


def _page(page_id: str, site: str) -> linefit.Page:
    return linefit.Page(page_id, site, [], [], [], "")


def test_site_folds_keep_a_sites_pages_together() -> None:
    pages = [_page(str(i), f"site{i % 4}") for i in range(12)]
    folds = linefit.site_folds(pages, 3, seed=0)
    assert sorted(i for fold in folds for i in fold) == list(range(12))
    for fold in folds:
        sites = {pages[i].site for i in fold}
        assert all(pages[i].site not in sites for other in folds if other is not fold
                   for i in other)


def test_the_fitted_module_holds_the_model_it_was_given() -> None:
    model = lines.Model([float(i) / 7 for i in range(len(lines.FEATURES))], -1.25, 0.6, 0.8)
    source = fit.fitted_module(model)
    namespace: dict[str, object] = {}
    exec(compile(ast.parse(source), "fitted.py", "exec"), namespace)  # noqa: S102
    assert namespace["COEFFICIENTS"] == model.coefficients
    assert (namespace["INTERCEPT"], namespace["THRESHOLD"], namespace["OUTSIDE_THRESHOLD"]) == (
        -1.25, 0.6, 0.8
    )
    assert all(len(line) <= 100 for line in source.splitlines())
