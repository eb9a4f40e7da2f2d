"""The types every stage shares: the float head, the model directory's record, the data set's source, and the one
float→int8 rule. Nothing here reads files, talks to boards or imports a stage."""
