"""W4: the toxic-link audit and the disavow file.

Every point of a linking domain's score comes from a signal a person can check
on the page or in the data: :mod:`.signals` names them, with their weights and
the evidence in words; :mod:`.page` reads a linking page's facts from the parse
the backlinks spider already made; :mod:`.score` rolls signals up per domain;
:mod:`.network` finds linking domains that share one subnet; :mod:`.disavow`
writes and checks Google's disavow file. The commands ``toxicaudit`` and
``disavow`` are thin layers over these and :mod:`.audit`.
"""
