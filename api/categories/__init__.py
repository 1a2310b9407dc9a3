"""A course's gradebook categories: the weights and drop-lowest rules (:mod:`api.categories.weights`,
pure arithmetic) and the course's own, as stored (:mod:`api.categories.store`). Below the
assignments (an assignment's category must be one of its course's) and the course gradebook."""
