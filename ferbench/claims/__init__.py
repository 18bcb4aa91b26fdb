"""Paper claims: each plugin's central effects, declared as data and checked by ``ferbench claims``.

* :mod:`.model`: :class:`Claim`, :class:`Arm`, :class:`Scale` (what plugins return from ``ferbench_claims``);
* :mod:`.load`: ``load_claims(path)``: claims declared as data in a plugin's ``claims.toml``;
* :mod:`.check`: a claim's sweep, its paired records and its verdict;
* :mod:`.render`: the verdict table, ``docs/claims.md`` and ``--list``.
"""

from .check import VERDICTS, ClaimResult, claim_sweep, evaluate_claim, run_claim, select_claims, verdict
from .load import claims_hook, load_claims
from .model import Arm, Claim, Scale
from .render import claims_page, list_table, render_results

__all__ = ["VERDICTS", "Arm", "Claim", "ClaimResult", "Scale", "claim_sweep", "claims_hook", "claims_page", "evaluate_claim",
           "list_table", "load_claims", "render_results", "run_claim", "select_claims", "verdict"]
