# The canonical AALL1331 monitoring plan (teachkit.aall1331.monitoring_plan) and the
# numbers the lessons quote about it, computed independently with rpact and mvtnorm.
# Run from this folder:  Rscript monitoring_plan_rpact.R > monitoring_plan_rpact.json
# Needs R with rpact and mvtnorm (Debian: apt-get install r-cran-rpact).
suppressMessages({library(rpact); library(mvtnorm)})
setLogLevel("DISABLED")   # rpact 3.3.4 prints [PROGRESS] lines to stdout otherwise

num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""),
              ifelse(is.na(x), "null", sprintf("%.15g", x)))
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}
obj <- function(...) {
  v <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(v), unlist(v)), collapse = ", "), "}")
}

# Facts (Brown PA et al., JAMA 2021;325(9):833-842, Methods, Statistical Analysis; Results,
# Early Closure of Randomization; Table 2): one-sided alpha .025, HR 0.58, 131 events,
# futility = the alternative tested at .024, interim at 80 of 131 events, P = .06,
# final analysis at 107 first DFS events with HR 0.70.
drift131 <- -log(0.58) * sqrt(131 / 4)
futility <- function(info) drift131 * sqrt(info[-length(info)]) - qnorm(1 - 0.024)

design_numbers <- function(info, with_futility = TRUE, binding = FALSE) {
  d <- if (with_futility) {
    getDesignGroupSequential(informationRates = info, typeOfDesign = "asOF", alpha = 0.025,
                             futilityBounds = futility(info), bindingFutility = binding)
  } else {
    getDesignGroupSequential(informationRates = info, typeOfDesign = "asOF", alpha = 0.025)
  }
  power <- getPowerSurvival(d, maxNumberOfEvents = 131, maxNumberOfSubjects = 220,
                            accrualTime = c(0, 4.5), hazardRatio = 0.58,
                            lambda2 = -log(0.45) / 2, typeOfComputation = "Schoenfeld",
                            directionUpper = FALSE)
  obj(info = num(info), crit = num(d$criticalValues), stage_levels = num(d$stageLevels),
      alpha_spent = num(d$alphaSpent),
      futility = num(if (with_futility) d$futilityBounds else NA),
      power = num(power$overallReject), futility_stop = num(sum(power$futilityPerStage)))
}

t_i <- 80 / 131
canonical <- c(1 / 3, t_i, 1)
cases <- list(
  canonical = design_numbers(canonical),
  first_interim = design_numbers(c(t_i, 2 / 3, 1)),
  after_half = design_numbers(c(0.5, t_i, 1)),
  planned_nonbinding = design_numbers(c(1, 2, 3) / 3),
  planned_no_rule = design_numbers(c(1, 2, 3) / 3, with_futility = FALSE),
  planned_binding = design_numbers(c(1, 2, 3) / 3, binding = TRUE)
)

# binding boundaries with the rule ignored: the type I error they really have
b <- getDesignGroupSequential(informationRates = c(1, 2, 3) / 3, typeOfDesign = "asOF", alpha = 0.025,
                              futilityBounds = futility(c(1, 2, 3) / 3), bindingFutility = TRUE)
r <- sqrt(outer(c(1, 2, 3) / 3, c(1, 2, 3) / 3, function(a, b) pmin(a, b) / pmax(a, b)))
alpha_binding_ignored <- 1 - pmvnorm(upper = b$criticalValues, corr = r, algorithm = GenzBretz(abseps = 1e-9, maxpts = 1e6))[1]

# the plan re-cut at the looks taken: 131/3, 80 and 107 events; the alpha the plan spent at the
# first two, the rest at 107 (asUser)
spent <- getDesignGroupSequential(informationRates = canonical, typeOfDesign = "asOF", alpha = 0.025)$alphaSpent
recut <- getDesignGroupSequential(informationRates = c(131 / 3, 80, 107) / 107, typeOfDesign = "asUser",
                                  userAlphaSpending = c(spent[1:2], 0.025), alpha = 0.025)
z_i <- qnorm(1 - 0.06)
z_f <- -log(0.70) * sqrt(107 / 4)
# the first look's Z was not published; the stage-wise P and median-unbiased HR at the final look
# do not depend on it as long as it is below its boundary (here 0); rpact truncates the 43.67
# events of the first look to 43 in the data set (a warning), which the final-look results do not use
res <- getAnalysisResults(recut, getDataset(overallEvents = c(131 / 3, 80, 107), overallLogRanks = -c(0, z_i, z_f),
                                            overallAllocationRatios = c(1, 1, 1)), directionUpper = FALSE)
recut_numbers <- obj(crit = num(recut$criticalValues), stage_levels = num(recut$stageLevels),
                     final_p = num(res$finalPValues[3]), median_unbiased_hr = num(res$medianUnbiasedEstimates[3]),
                     ci = num(c(res$finalConfidenceIntervalLowerBounds[3], res$finalConfidenceIntervalUpperBounds[3])))

# naive testing at 1.96 at 3 equally spaced looks: exact type I error (mvtnorm)
naive3 <- 1 - pmvnorm(upper = rep(qnorm(0.975), 3), corr = r, algorithm = GenzBretz(abseps = 1e-10, maxpts = 1e6))[1]

about <- paste0("Computed by tests/data/monitoring_plan_rpact.R with R ", getRversion(), ", rpact ",
                packageVersion("rpact"), " and mvtnorm ", packageVersion("mvtnorm"),
                ". getDesignGroupSequential(typeOfDesign = asOF, alpha = 0.025) at the information rates ",
                "of each reading of the June 2019 look (canonical: 1/3, 80/131, 1; first_interim: 80/131, 2/3, 1; ",
                "after_half: 1/2, 80/131, 1; planned: 1/3, 2/3, 1), futility bounds = -log(0.58) sqrt(131/4) sqrt(t) ",
                "- qnorm(0.976), non-binding unless named binding; power = getPowerSurvival overallReject at 131 events, ",
                "HR 0.58, Schoenfeld (futility stops counted as the rule followed; planned_no_rule = the rule ignored). ",
                "alpha_binding_ignored: type I error of the binding boundaries when the futility rule is ignored ",
                "(mvtnorm::pmvnorm). recut: asUser spending of the canonical plan's alpha at 131/3, 80 and 107 events, ",
                "getAnalysisResults with interim Z = qnorm(0.94), final Z = -log(0.70) sqrt(107/4) (reconstructions ",
                "from the published P = .06 and HR 0.70); rpact's log-rank sign is positive when HR > 1. ",
                "naive3: 1 - P(Z1, Z2, Z3 < 1.96), 3 equally spaced looks (mvtnorm).")
cat("{\n", sprintf("\"_about\": \"%s\",\n", about),
    paste(sprintf("\"%s\": %s", names(cases), unlist(cases)), collapse = ",\n"),
    ",\n\"alpha_binding_ignored\": ", num(alpha_binding_ignored),
    ",\n\"recut\": ", recut_numbers, ",\n\"naive3\": ", num(naive3), "\n}\n", sep = "")
