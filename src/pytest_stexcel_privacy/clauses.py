"""The clause catalogue and the policy's deletion exceptions.

Clause ids are stable: they appear in every report, in JUnit properties and in
the ``privacy`` marker, so renaming one is a breaking change. The summaries are
our own words; the policy text is cited by its section heading only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    summary: str


CLAUSES: dict[str, Clause] = {
    c.id: c
    for c in (
        Clause(
            "deletion",
            "Right to Deletion",
            "After a verified deletion request no store keeps the person's data in any "
            "encoding, and nobody else's data is removed with it.",
        ),
        Clause(
            "deletion-processors",
            "Right to Deletion",
            "Every service provider holding the person's data is asked to delete it.",
        ),
        Clause(
            "deletion-exceptions",
            "Right to Deletion",
            "Data kept after deletion is limited to what a declared retention names, and "
            "each retention rests on one of the exceptions the policy lists.",
        ),
        Clause(
            "children",
            "Children Under Thirteen",
            "Sign-up is refused exactly when the person is younger than thirteen, and a "
            "refused sign-up leaves nothing behind.",
        ),
        Clause(
            "email-opt-out",
            "E-mail Communications",
            "Marketing mail can always be stopped by unsubscribing, and once stopped it "
            "stays stopped.",
        ),
        Clause(
            "us-storage",
            "Servers Located in the United States",
            "Personal data is stored on, and sent to, servers in the United States only.",
        ),
        Clause(
            "card-data",
            "Collection of your Personal Information",
            "Card details serve the purchase they were given for and do not outlive it.",
        ),
        Clause(
            "third-party-sharing",
            "Sharing Information with Third Parties",
            "Personal data goes only to declared service providers, each receiving only what "
            "its purpose needs, and the customer list is never handed over wholesale.",
        ),
        Clause(
            "account-disconnect",
            "Disconnecting your Stexcel Account from Third Party Websites",
            "Once a person disconnects a third-party site, nothing more about them flows to "
            "it and the connection's tokens are no longer kept.",
        ),
        Clause(
            "policy-notice",
            "Changes to this Statement",
            "A change to the policy is announced to the primary e-mail of every account, "
            "opted out of marketing or not, and to nobody deleted or refused.",
        ),
        Clause(
            "shine-the-light",
            "California Privacy Rights",
            "Asked which third parties received personal data for direct marketing in the "
            "preceding calendar year, the module names exactly those that did.",
        ),
    )
}


@dataclass(frozen=True)
class DeletionException:
    id: str
    summary: str


# The exceptions listed under "Right to Deletion", in the policy's order.
DELETION_EXCEPTIONS: dict[str, DeletionException] = {
    e.id: e
    for e in (
        DeletionException(
            "complete-transaction",
            "Finishing the transaction the data was collected for, a warranty or a "
            "federal product recall, a requested or expected service, or a contract.",
        ),
        DeletionException(
            "security",
            "Detecting security incidents and acting against fraud or illegal activity.",
        ),
        DeletionException("debugging", "Finding and repairing errors in intended functions."),
        DeletionException(
            "free-speech", "Free speech, another consumer's free speech, or a legal right."
        ),
        DeletionException(
            "calecpa", "Compliance with the California Electronic Communications Privacy Act."
        ),
        DeletionException(
            "research", "Consented public-interest research that deletion would defeat."
        ),
        DeletionException(
            "internal-expected-use",
            "Internal uses the person would reasonably expect from the relationship.",
        ),
        DeletionException("legal-obligation", "An existing legal obligation."),
        DeletionException(
            "compatible-internal-use",
            "Other lawful internal use compatible with why the data was given.",
        ),
    )
}


def clause(clause_id: str) -> Clause:
    """Look a clause up, listing the valid ids when the id is wrong."""
    try:
        return CLAUSES[clause_id]
    except KeyError:
        raise ValueError(
            f"unknown privacy clause {clause_id!r}; known clauses: {', '.join(CLAUSES)}"
        ) from None
