<?cs # pickup.cs - the verification form (GET /m/<token>, and again after a
     failed POST with Page.Error). Works without JavaScript. ?><h1><?cs var:Text.Pickup.Heading ?></h1>
<p><?cs var:Text.Pickup.Intro ?></p>
<p class="expires"><?cs var:Text.Pickup.Expires ?> <strong><?cs var:Page.Expires ?></strong></p>
<?cs if:Page.Error ?><div class="error" role="alert" id="answer-error"><?cs var:Page.Error ?></div>
<?cs /if ?><?cs if:Page.LockedUntil ?><p class="warning" role="status"><?cs var:Text.Pickup.Locked ?> <strong><?cs var:Page.LockedUntil ?></strong></p>
<?cs /if ?><form class="verify" method="post" action="<?cs var:Page.Action ?>" autocomplete="off">
<input type="hidden" name="csrf" value="<?cs var:Page.Csrf ?>">
<?cs if:Page.Method == "question" ?><label for="answer"><?cs var:Page.Question ?></label>
<p class="hint" id="answer-hint"><?cs var:Text.Pickup.QuestionHint ?></p>
<input id="answer" name="answer" type="text" required maxlength="256" autocomplete="off" spellcheck="false" aria-describedby="answer-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<?cs elif:Page.Method == "pin" ?><label for="answer"><?cs var:Text.Pin.Pin ?></label>
<p class="hint" id="answer-hint"><?cs var:Text.Pin.PinHint ?></p>
<input id="answer" name="answer" type="password" inputmode="numeric" pattern="[0-9]*" required minlength="4" maxlength="8" autocomplete="current-password" aria-describedby="answer-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<?cs elif:Page.Method == "setpin" || Page.Method == "resetpin" ?><?cs if:Page.Method == "setpin" ?><p id="pin-intro"><?cs var:Text.Pin.SetIntro ?></p><?cs else ?><p id="pin-intro"><?cs var:Text.Pin.ResetIntro ?></p><?cs /if ?>
<?cs if:Page.ResetKey ?><input type="hidden" name="k" value="<?cs var:Page.ResetKey ?>">
<?cs /if ?><label for="pin"><?cs var:Text.Pin.NewPin ?></label>
<p class="hint" id="pin-hint"><?cs var:Text.Pin.NewPinHint ?></p>
<input id="pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]{4,8}" required minlength="4" maxlength="8" autocomplete="new-password" aria-describedby="pin-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<label for="pin2"><?cs var:Text.Pin.Repeat ?></label>
<input id="pin2" name="pin2" type="password" inputmode="numeric" pattern="[0-9]{4,8}" required minlength="4" maxlength="8" autocomplete="new-password">
<?cs if:Page.Method == "setpin" ?><label for="recovery"><?cs var:Text.Pin.Recovery ?></label>
<p class="hint" id="recovery-hint"><?cs var:Text.Pin.RecoveryHint ?></p>
<input id="recovery" name="recovery" type="email" required maxlength="320" autocomplete="email" aria-describedby="recovery-hint">
<?cs /if ?><?cs elif:Page.Method == "register" ?><input type="hidden" name="step" value="send">
<p id="register-intro"><?cs var:Text.Register.Intro ?></p>
<?cs elif:Page.Method == "regcode" || Page.Method == "resetpassword" ?><?cs if:Page.Method == "regcode" ?><input type="hidden" name="step" value="set">
<p id="register-intro"><?cs var:Text.Register.CodeIntro ?></p>
<label for="code"><?cs var:Text.Register.Code ?></label>
<p class="hint" id="code-hint"><?cs var:Text.Register.CodeHint ?></p>
<input id="code" name="code" type="text" inputmode="numeric" required maxlength="16" autocomplete="one-time-code" spellcheck="false" aria-describedby="code-hint">
<?cs else ?><p id="register-intro"><?cs var:Text.Password.ResetIntro ?></p>
<?cs /if ?><?cs if:Page.ResetKey ?><input type="hidden" name="k" value="<?cs var:Page.ResetKey ?>">
<?cs /if ?><label for="password"><?cs var:Text.Password.New ?></label>
<p class="hint" id="password-hint"><?cs var:Text.Password.MinBefore ?> <?cs var:Page.PasswordMin ?> <?cs var:Text.Password.MinAfter ?></p>
<input id="password" name="password" type="password" required maxlength="256" autocomplete="new-password" aria-describedby="password-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<label for="password2"><?cs var:Text.Password.Repeat ?></label>
<input id="password2" name="password2" type="password" required maxlength="256" autocomplete="new-password">
<?cs elif:Page.Method == "recover" ?><p id="recover-intro"><?cs var:Text.Pin.RecoverIntro ?></p>
<?cs elif:Page.Method == "recoverpassword" ?><p id="recover-intro"><?cs var:Text.Password.RecoverIntro ?></p>
<?cs elif:Page.Method == "registered" ?><label for="answer"><?cs var:Text.Pickup.Password ?></label>
<p class="hint" id="answer-hint"><?cs var:Text.Password.Hint ?></p>
<input id="answer" name="answer" type="password" required maxlength="256" autocomplete="current-password" aria-describedby="answer-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<?cs else ?><label for="answer"><?cs var:Text.Pickup.Password ?></label>
<p class="hint" id="answer-hint"><?cs var:Text.Pickup.PasswordHint ?></p>
<input id="answer" name="answer" type="password" required maxlength="256" autocomplete="current-password" aria-describedby="answer-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<?cs /if ?><button type="submit"><?cs if:Page.Method == "setpin" || Page.Method == "resetpin" ?><?cs var:Text.Pin.SetSubmit ?><?cs elif:Page.Method == "recover" || Page.Method == "recoverpassword" ?><?cs var:Text.Pin.RecoverSubmit ?><?cs elif:Page.Method == "register" ?><?cs var:Text.Register.SendSubmit ?><?cs elif:Page.Method == "regcode" || Page.Method == "resetpassword" ?><?cs var:Text.Password.SetSubmit ?><?cs else ?><?cs var:Text.Pickup.Submit ?><?cs /if ?></button>
</form>
<?cs if:Page.Method == "regcode" ?><form class="verify" method="post" action="<?cs var:Page.Action ?>">
<input type="hidden" name="csrf" value="<?cs var:Page.Csrf ?>">
<input type="hidden" name="step" value="send">
<p class="help"><?cs var:Text.Register.ResendIntro ?></p>
<button type="submit" class="secondary"><?cs var:Text.Register.Resend ?></button>
</form>
<?cs /if ?><?cs if:Page.RecoverUrl ?><p class="help"><a href="<?cs var:Page.RecoverUrl ?>"><?cs if:Page.Method == "pin" ?><?cs var:Text.Pin.Forgot ?><?cs else ?><?cs var:Text.Password.Forgot ?><?cs /if ?></a></p>
<?cs /if ?><p class="help"><?cs var:Text.Pickup.Help ?></p>
