"""X12 005010X279A1 eligibility, a pure codec: 270 writer and reader, 271 writer and reader, benefit summary.

Modules, each named for what it holds:
    syntax      X12Error, separators, tokenizing, element values (dates, decimals)
    envelope    ISA/GS/ST written and read (Envelope, EnvelopeInfo)
    inquiry     what a 270 says (EligibilityInquiry, Dependent), NPI check
    response    what a 271 says (BenefitRow, Parsed271, EligibilityResponse; AAA as domain AaaEntry)
    hierarchy   the HL tree shared by both transactions
    write_270 / read_270 / write_271 / read_271
    benefits    the benefit summary for the asked service types (a domain PayerAnswer)
    ack         TA1 and 999 sent instead of a 271
    codes       code tables;  text: names in the connector's character set

Nothing here is imported at cold start: eligibility imports it on first use.

Pure and dependency-light: stdlib only, no clock reads (times are passed in), no I/O.

Why our own tokenizer and not pyx12: X12 syntax is five rules (separators come from the fixed ISA,
segments split on the terminator, elements on the element separator, repeats and components on
theirs). pyx12 would add ~10 MB and an import to every cold start, and it ships no 5010 270/271
maps, so loops, counts and validation would be ours anyway.

Real-world 271s (issue 17): trailing padding/NUL/Ctrl-Z and line wrapping are tolerated
(``normalize_framing``); a bad date inside one benefit row drops that row with a warning; rows limited
by ``III*ZZ`` are chosen by the visit's place of service; a carve-out (``EB*U`` for an asked service)
keeps plan-level rows out of the summary and names the entity to ask.

PHI: names, birth dates and member ids live only in the returned structures (and are hidden from
their repr). ``X12Error`` messages name a code, a segment position and an element, never a value.

Structure written and read (loops of the TR3):
    ISA / GS / ST / BHT
    HL 20  2000A information source (payer)      NM1*PR                 (271: + AAA)
    HL 21  2000B information receiver (provider) NM1*1P ... XX*NPI      (271: + AAA)
    HL 22  2000C subscriber  TRN  NM1*IL ... MI*id  DMG  DTP*291  EQ    (271: REF AAA DMG DTP, 2110C EB ...)
    HL 23  2000D dependent   TRN  NM1*03  DMG  DTP*291  EQ              (271: same as 22, + INS)
    SE / GE / IEA
"""
