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
<?cs else ?><label for="answer"><?cs var:Text.Pickup.Password ?></label>
<p class="hint" id="answer-hint"><?cs var:Text.Pickup.PasswordHint ?></p>
<input id="answer" name="answer" type="password" required maxlength="256" autocomplete="current-password" aria-describedby="answer-hint<?cs if:Page.Error ?> answer-error<?cs /if ?>"<?cs if:Page.Error ?> aria-invalid="true"<?cs /if ?>>
<?cs /if ?><button type="submit"><?cs var:Text.Pickup.Submit ?></button>
</form>
<p class="help"><?cs var:Text.Pickup.Help ?></p>
