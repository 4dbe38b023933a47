"""The words sources use for each kind of harm, and the noun a card names an "other" harm
by. Vocabulary only: how a sentence is read (negation, counts, grades) is
:mod:`carnews.explain.harms`."""

from __future__ import annotations

import re

__all__ = ["PATTERNS", "noun"]

PATTERNS = {
    "death": r"\bdied\b|\bdeaths?\b(?! (?:rate|risk))|\bfatal\b",
    # "T cell malignancies" (a regulator's spelling), "second primary malignancies", "new
    # malignancies"; "B-cell malignancies" are the cancers the products are approved for.
    "secondary cancer": r"(?:secondary|second(?: primary)?|new) (?:T[- ]cell )?(?:malignanc\w*"
    r"|cancers?\b(?! (?:therap|treatment|drug|indication)))|T[- ]cell malignanc\w*"
    r"|(?:secondary |CAR[- ]positive )?T[- ]cell lymphomas?|secondary lymphomas?"
    # myeloid cancers after the cells (boxed for BCMA products)
    r"|myelodysplastic syndromes?|(?:acute myeloid|therapy-related) leuka?emia"
    r"|(?:therapy-related )?myeloid neoplasms?"
    # new skin cancers (melanoma alone is too often a cancer CAR-T is tried in)
    r"|\b(?:squamous|basal)[- ]cell (?:skin )?(?:carcinomas?|cancers?)|\bskin cancers?\b",
    "icans": r"\bICANS\b|neurotoxicity(?: syndrome)?|immune effector cell-associated neurotox\w*"
    r"|neurological side effects|nerve side effects|neurologic(?:al)? toxicit(?:y|ies)"
    r"|neurologic(?:al)? (?:symptoms|events|complications|problems)"
    r"|(?<!autoimmune )(?<!hashimoto )\bencephalopathy\b",
    "crs": r"cytokine[- ]release(?: syndrome)?|\bCRS\b|cytokine storm",
    "infection": r"(?<!post-)\binfections?\b|pneumonia|herpes zoster|\bsepsis\b"
    # a virus come back: "varicella-zoster reactivation", "HSV reactivation", "BK viraemia"
    r"|(?:cytomegalovirus|\bCMV|\bEBV|Epstein-Barr(?: virus)?|varicella[- ]zoster(?: virus)?"
    r"|\bVZV|\bHSV(?:-[12])?|herpes simplex(?: virus)?|\bHHV-6|hepatitis B(?: virus)?|\bHBV"
    r"|\bBK(?: virus)?|\bJC virus|adenovirus|viral|virus) reactivation"
    # fungal and skin infections named by the germ or the organ
    r"|aspergillosis|candid(?:iasis|aemia|emia)|\bcellulitis\b|\bPJP\b"
    r"|\bCOVID-19\b(?! vaccin)|\bsinusitis\b|\bbronchitis\b|\bshingles\b|\binfluenza\b"
    r"|bacteraemia|bacteremia|\bvira?emia\b|\bviraemia\b",
    # "Autoimmune cytopenias" and "immune thrombocytopenia" are diseases treated, not harms.
    "low blood counts": r"\bneutropeni\w*|(?<!autoimmune )(?<!immune )\bcytopeni\w*"
    r"|low blood counts|\bleukopeni\w*"
    r"|lymphopeni\w*|marrow toxicit\w*|(?<!immune )\bthrombocytopeni\w*|pancytopeni\w*"
    # a study's "haematological toxicity of grade 3", "myelosuppression"
    r"|ha?ematolog(?:ic|ical) (?:toxicit(?:y|ies)|adverse events)|ha?ematotoxicit\w*"
    r"|myelosuppression|(?:bone )?marrow suppression"
    r"|(?:drop|fall|decrease) in white (?:blood )?cells?|low white (?:blood )?(?:cell )?counts?"
    # "my white cells were low for a month", "her blood counts dropped"
    r"|(?:blood|platelet|white (?:blood )?cell|neutrophil) counts? (?:were |was |stayed "
    r"|remained )?(?:very |too |so |dangerously )?(?:low|dropped|fell)\b"
    r"|white (?:blood )?cells (?:were|was|stayed|remained) (?:very |too |so )?low\b"
    # a patient's "my platelets dropped", "her neutrophils fell", "haemoglobin went down"
    r"|\b(?:platelets|neutrophils|white (?:blood )?cells|red (?:blood )?cells|ha?emoglobin)"
    r" (?:\w+ )?(?:dropped|fell|crashed|plummeted|went down|(?:was|were) (?:very |too |so )?low)\b"
    # the same in a patient's idiom: "my white cells were on the floor", "hit rock bottom"
    r"|\b(?:platelets|neutrophils|white (?:blood )?cells|(?:blood|white (?:blood )?cell) counts?)"
    r" (?:\w+ )?(?:(?:was|were) )?(?:on the floor|through the floor|(?:at |hit )?rock[- ]bottom"
    r"|bottomed out|tanked|near zero)\b"
    r"|(?<!haemolytic )(?<!hemolytic )(?<!aplastic )\ban(?:a)?emia\b",
    # "My antibody levels dropped so low that I now get immunoglobulin infusions": a fall in
    # autoantibodies ("anti-dsDNA antibody levels fell") is the treatment working, not this.
    "low antibodies": r"hypogammaglobulin\w*|(?:total |serum )?IgG fell|immunoglobulin"
    r" replacement|IgG (?:declined|decreased)|immunoglobulin levels fell|\bIgG (?:fell )?below\b"
    r"|(?:antibody|immunoglobulin|IgG) levels? (?:\w+ ){0,2}(?:so|too|very|dangerously) low"
    r"|\blow (?:antibody|immunoglobulin|IgG) levels?|\b(?:now|still) (?:gets?|needs?|receives?"
    r"|requires?) (?:monthly |regular )?(?:immunoglobulin|IVIG|IgG)\b"
    # A person's or a reporter's plain words for the person's own antibodies: "my antibodies
    # would drop so low", "her antibodies are low", "Antibody levels fell sharply", "deplete
    # protective antibodies"; named by whose they are, so "anti-dsDNA antibodies fell" (the
    # treatment working) is not read, and only a fall told as steep or to a low: a patient's
    # "my antibody levels dropped" may be the disease's own antibodies going.
    r"|\b(?:(?:my|her|his|their|protective|normal|total|healthy) antibod(?:y|ies)"
    r"|^\s*antibod(?:y|ies))(?: levels?)? (?:(?:\w+ ){0,3}(?:so|too|very|dangerously|really) low"
    r"|(?:are|is|were|was|stayed|remained) (?:\w+ )?low|(?:dropped|fell) (?:sharply|steeply)"
    r"|plummeted|crashed)\b"
    r"|\bdeplet\w* (?:[\w-]+ ){0,4}(?:protective|normal|healthy) antibodies"
    # IVIG given because of the fall: "needed IVIG infusions", "she'll have IVIG every month"
    r"|\b(?:needed|needs?|requir(?:ed|es?)|(?:'ll|will) (?:have|need|get)) (?:\w+ ){0,2}"
    r"(?:IVIG|immunoglobulin infusions)\b",
    # How a patient says it too ("I was very tired", "felt dizzy", "threw up"); the card
    # names each by its noun (_NOUNS). T-cell "exhaustion" is a lab measure, not a harm.
    "other": r"\bfevers?\b|\bfeverish\b|\bheadaches?\b|\bnause(?:a|ous|ated)\b|\bfatigue\b"
    r"|\btired(?:ness)?\b"
    r"|ovarian insufficiency|local reactions|(?<!T-cell )(?<!T cell )\bexhaustion\b(?! markers?)"
    r"|(?<!cells )(?<!cells were )\bexhausted\b(?! (?:T[- ]cells?|CAR|cells?|phenotype))"
    r"|ha?emophagocytic lymphohistiocytosis|\bHLH(?:-like)?\b"
    r"|\bIEC-HS\b|infusion[- ](?:related )?reactions?|\brash\b|weight loss|lost weight"
    # "lost more than 10% of body weight", "lost 3 kg"
    r"|\blost (?:(?:more than|over|about|around|up to|a mean(?: of)?|an average of) )?"
    r"\d+(?:\.\d+)?\s?(?:%|kg)(?: of (?:their |its |his |her )?(?:body )?weight)?"
    r"|tumou?r[- ]lysis|liver enzyme elevation|\bpyrexia\b|\bhypotension\b|low blood pressure"
    r"|\bparkinsonism\b|macrophage activation syndrome"
    r"|elevat\w* (?:of )?liver enzymes|liver enzymes? (?:rose|were raised|were elevated)"
    r"|raised liver enzymes|elevated (?:liver enzymes|transaminases)"
    r"|transaminases? (?:rose|elevation|increased)|\bitch(?:ing|y)\b|\bdizz(?:y|iness)\b"
    r"|\bvomit(?:ed|ing)?\b|\bthrew up\b|\bchills\b|\bshivering\b|\bach(?:ing|y)\b"
    r"|\bshort of breath\b|\bbreathless(?:ness)?\b|\bdrows(?:y|iness)\b"
    r"|\bhair (?:thinned|loss|fell out)\b"
    # a lay "temperature" is a fever: "she had temperatures", "ran a high temperature"
    r"|\b(?:had|ran|running|developed|spiked) (?:a )?(?:high |raised )?temperatures?\b",
}


# The source's words for an "other" harm as the noun the card's "side effects such as …"
# needs: a patient's "I was tired" is tiredness, "lost weight" weight loss.
_HLH = "HLH (an overactive immune reaction)"
_NOUNS = (
    (r"lost weight|lost .*(?:%|kg).*", "weight loss"),
    (r"h(?:a)?emophagocytic lymphohistiocytosis|hlh", _HLH),
    (r"hlh-like|iec-hs", "an HLH-like reaction"),
    (r"fevers|pyrexia|feverish|(?:had|ran|running|developed|spiked) .*temperatures?", "fever"),
    (r"hypotension", "low blood pressure"),
    (
        r"liver enzyme elevation|transaminases? (?:rose|elevation|increased)|elevat\w* (?:of )?"
        r"liver enzymes|liver enzymes? (?:rose|were raised|were elevated)|elevated (?:liver"
        r" enzymes|transaminases)",
        "raised liver enzymes",
    ),
    (r"macrophage activation syndrome", "an HLH-like reaction"),
    (r"tired", "tiredness"),
    (r"exhausted", "exhaustion"),
    (r"nause(?:ous|ated)", "nausea"),
    (r"itchy", "itching"),
    (r"dizzy", "dizziness"),
    (r"vomit(?:ed)?|threw up", "vomiting"),
    (r"shivering", "chills"),
    (r"ach(?:ing|y)", "aches"),
    (r"short of breath|breathless(?:ness)?", "shortness of breath"),
    (r"drowsy", "drowsiness"),
    (r"hair (?:thinned|loss|fell out)", "hair loss"),
)


def noun(words: str) -> str:
    lowered = words.lower()
    for pattern, noun in _NOUNS:
        if re.fullmatch(pattern, lowered):
            return noun
    return lowered
