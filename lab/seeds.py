"""The five founding articles (`../shared/seeds`) laid out by outlet, as `storywire ingest`
expects plain-text copy: one folder per outlet, so `source` names the outlet, not the file.

The seed files carry no header naming their outlet; each outlet below is the one the copy
itself names (the line quoted). One names none: it is filed as an unnamed outlet rather than
under a guess.
"""

import shutil
from pathlib import Path

# seed file name -> (outlet, the evidence in the copy)
SEED_OUTLETS: dict[str, tuple[str, str]] = {
    "000_c0d84efe011b6456.txt": ("unnamed outlet", "no outlet named anywhere in the copy"),
    "001_65d99da20425977f.txt": ("Reuters", 'dateline credit "Reuters, Moscow :"'),
    "002_1477b8a8718e2fc9.txt": ("RMN News Service", '"Support RMN News Service ..." footer'),
    "003_b67e86a4bc963dd2.txt": ("Xinhua", 'credit line "(Xinhua)" under the headline'),
    "004_a4c670b1c111e5eb.txt": ("SANA", 'dateline "Moscow, SANA-"'),
}


def lay_out_by_outlet(seeds: Path, into: Path) -> Path:
    """Copy the seed files into `into/<outlet>/<file>` and return `into`. A seed not in
    `SEED_OUTLETS` is refused: its outlet would otherwise be a guess."""
    for path in sorted(seeds.glob("*.txt")):
        if path.name not in SEED_OUTLETS:
            raise ValueError(f"{path.name}: outlet unknown; add it to lab.seeds.SEED_OUTLETS")
        outlet_dir = into / SEED_OUTLETS[path.name][0]
        outlet_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, outlet_dir / path.name)
    return into
