# Preemption (railroad, emergency) and transit signal priority. Runs on the board.
