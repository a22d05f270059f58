// The only script: submit the gallery filter when "Human-made only" is toggled (works without it too).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.autosubmit").forEach(function (box) {
    box.addEventListener("change", function () { box.form.submit(); });
  });
});
