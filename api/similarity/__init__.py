"""An assignment's similarity report (staff only): its code parts fingerprinted once per submission
into an index in the database, pairs ranked by a job, read back by the staff (contract:
"Similarity")."""
